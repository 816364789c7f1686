import { Controller, Get } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import { Public } from '../auth/auth.decorators';
import type { OpenApiDocument } from './openapi.document';

@Controller()
export class OpenApiController {
  private document: OpenApiDocument | undefined;

  /** Called once by `setupDocs`: the document is built from the application, which a controller cannot see. */
  serve(document: OpenApiDocument): void {
    this.document = document;
  }

  @Public()
  @Get('openapi.json')
  get(): OpenApiDocument {
    if (!this.document)
      throw new AppError({ code: 'GATEWAY.OPENAPI_UNAVAILABLE', kind: 'UNAVAILABLE', message: 'The API document is not available' });
    return this.document;
  }
}
