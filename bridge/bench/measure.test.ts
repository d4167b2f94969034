import { processCostPer } from './measure.js';

describe('processCostPer', () => {
  it('divides CPU time and page faults by the number of executions', () => {
    const before = { userCPUTime: 1_000, systemCPUTime: 500, minorPageFault: 10 } as NodeJS.ResourceUsage;
    const after = { userCPUTime: 3_000, systemCPUTime: 900, minorPageFault: 30 } as NodeJS.ResourceUsage;
    expect(processCostPer(before, after, 4)).toEqual({ userUs: 500, systemUs: 100, minorFaults: 5 });
  });
});
