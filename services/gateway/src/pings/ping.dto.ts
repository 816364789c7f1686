import { z } from 'zod';

export const PINGS_TOPIC = 'platform.pings.v1';
export const pingBody = z.object({ message: z.string().min(1).max(280) }).strict();
export type PingBody = z.infer<typeof pingBody>;
export const pingAccepted = z.object({ id: z.string(), topic: z.string() });
