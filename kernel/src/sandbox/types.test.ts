import { errorCodes } from '@nexus/bridge/limits';
import { SandboxErrorCodes } from './types.js';

describe('the sandbox interface', () => {
  it("lists exactly the bridge's handler error codes", () => {
    expect([...SandboxErrorCodes]).toEqual([...errorCodes]);
  });
});
