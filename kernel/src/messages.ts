// The WebSocket message types (SPEC 3). Server messages are also published by the executor, so the
// names live here rather than in ws/.

export const ServerMessageType = {
  CONNECTED: 'CONNECTED',
  SUBSCRIBED: 'SUBSCRIBED',
  UNSUBSCRIBED: 'UNSUBSCRIBED',
  RESULT: 'RESULT',
  PATCH: 'PATCH',
  /** The panel's definition changed (PUT /panels/:id), in order with the PATCHes. */
  REVISION: 'REVISION',
  SNAPSHOT: 'SNAPSHOT',
  EVENT: 'EVENT',
  PROGRESS: 'PROGRESS',
  ERROR: 'ERROR',
  PONG: 'PONG',
  /** A panel's new log lines, to a subscriber that opted in (`logs`). */
  LOG: 'LOG',
} as const;
export type ServerMessageType = (typeof ServerMessageType)[keyof typeof ServerMessageType];

export const ClientMessageType = {
  TRIGGER: 'TRIGGER',
  SUBSCRIBE: 'SUBSCRIBE',
  UNSUBSCRIBE: 'UNSUBSCRIBE',
  PING: 'PING',
} as const;
export type ClientMessageType = (typeof ClientMessageType)[keyof typeof ClientMessageType];

/** Any message on the wire: a `type` and its fields. */
export interface WireMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}
