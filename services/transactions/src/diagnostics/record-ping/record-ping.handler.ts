import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../platform/prisma.provider';

export interface ReceivedPing {
  eventId: string;
  message: string;
  sentAt: Date;
  traceId: string | undefined;
}

/** Records a ping once per event id: Kafka delivers at least once, so a redelivery is a no-op. */
@Injectable()
export class RecordPingHandler {
  constructor(private readonly prisma: PrismaService) {}

  async execute(ping: ReceivedPing): Promise<{ recorded: boolean }> {
    const { count } = await this.prisma.client.pingReceipt.createMany({
      data: [{ eventId: ping.eventId, message: ping.message, sentAt: ping.sentAt, traceId: ping.traceId ?? null }],
      skipDuplicates: true,
    });
    return { recorded: count === 1 };
  }
}
