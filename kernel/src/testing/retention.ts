// What tests keep of each panel besides state and history, unless a test is about these bounds.
export const RETENTION = { revisions: 10, logLines: 200, logBytes: 256 * 1024, requestKeys: 100 } as const;
