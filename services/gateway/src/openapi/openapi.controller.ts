import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.document';

@Controller()
export class OpenApiController {
  /** Built once: the document only changes with the code. */
  private readonly document = buildOpenApiDocument();

  @Get('openapi.json')
  get(): OpenApiDocument {
    return this.document;
  }
}
