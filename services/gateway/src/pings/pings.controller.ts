import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { commonV1, eventTypeName } from '@tessera/contracts';
import type { EventProducer } from '@tessera/kafka';
import { randomUUID } from 'node:crypto';
import { ZodPipe } from '../http/zod-body.pipe';
import { EVENT_PRODUCER } from '../peers/peers.module';
import { type PingBody, pingBody, PINGS_TOPIC } from './ping.dto';
import { RequireScopes } from '../auth/auth.decorators';

/**
 * The foundation slice's event path: a ping is published to Kafka and recorded by a consumer in the
 * transactions service, all in one trace. Answers 202 once the broker has acknowledged the event.
 */
@Controller('v1/pings')
export class PingsController {
  constructor(@Inject(EVENT_PRODUCER) private readonly producer: EventProducer) {}

  @Post()
  @HttpCode(202)
  // A diagnostic that writes to Kafka: operators only. ops:read is the operator-only scope (there is no ops:write).
  @RequireScopes('ops:read')
  async create(@Body(new ZodPipe(pingBody)) body: PingBody): Promise<{ id: string; topic: string }> {
    const id = randomUUID();
    const ping = commonV1.Ping.fromPartial({ id, message: body.message, sentAt: new Date() });
    await this.producer.publish(PINGS_TOPIC, {
      id, // the envelope id is the ping id: consumers dedupe on it and clients can look it up
      key: id,
      subject: id,
      type: eventTypeName.Ping,
      message: ping,
      codec: commonV1.Ping,
    });
    return { id, topic: PINGS_TOPIC };
  }
}
