// Parsing client WebSocket messages. Pure: text in, a typed message or a KernelError out.

import { z } from 'zod';
import { KernelError } from '../errors.js';
import { ClientMessageType } from '../messages.js';

const requestId = z.union([z.string().max(128), z.number()]).optional();

const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal(ClientMessageType.TRIGGER),
    tool: z.string().min(1).max(64),
    args: z.unknown().optional(),
    requestId,
    /** Makes a retry of this trigger safe (panels/requests.ts); checked where it is used. */
    idempotencyKey: z.string().max(1024).optional(),
  }),
  z.object({
    type: z.literal(ClientMessageType.SUBSCRIBE),
    /** Resume: the last version this client applied, and the epoch it came with. */
    since: z.number().int().min(0).optional(),
    epoch: z.string().min(1).max(64).optional(),
    /** Opt in to (true) or out of (false) the panel's LOG messages; absent keeps the choice. */
    logs: z.boolean().optional(),
  }),
  z.object({ type: z.literal(ClientMessageType.UNSUBSCRIBE) }),
  z.object({ type: z.literal(ClientMessageType.PING), id: requestId }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;

const TYPES = Object.values(ClientMessageType).join(', ');

export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new KernelError('INVALID_JSON', `the message is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KernelError(
      'MALFORMED_MESSAGE',
      `a message must be a JSON object with a "type" (one of ${TYPES})`,
    );
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(Object.values(ClientMessageType) as string[]).includes(type)) {
    throw new KernelError(
      'MALFORMED_MESSAGE',
      `unknown message type ${JSON.stringify(type)} (expected one of ${TYPES})`,
    );
  }
  const result = clientMessage.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      path: `/${issue.path.join('/')}`,
      message: issue.message,
    }));
    throw new KernelError(
      'MALFORMED_MESSAGE',
      `invalid ${type} message: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      problems,
    );
  }
  return result.data;
}

/** Whether a connection URL opts in to LOG messages (`?logs=1` or `?logs=true`), or a problem. */
export function parseLogsOptIn(params: URLSearchParams): boolean | string {
  const value = params.get('logs');
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  return 'logs must be 1, true, 0 or false';
}

/** The resume point of a connection URL (`?since=<version>&epoch=<epoch>`), or a problem. */
export function parseResume(params: URLSearchParams): { since?: number; epoch?: string } | string {
  const since = params.get('since');
  const epoch = params.get('epoch');
  if (since === null && epoch === null) return {};
  if (since === null || epoch === null) return 'since and epoch go together';
  if (!/^\d{1,15}$/.test(since)) return 'since must be a non-negative integer (a version)';
  if (epoch.length === 0 || epoch.length > 64) return 'epoch must be 1 to 64 characters';
  return { since: Number(since), epoch };
}
