// Jest global setup: a control plane of the suite's own (cached binaries, a fresh run directory),
// the CRD and RBAC installed, and the state file every test file reads.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { STATE_ENV, startCluster, type HarnessState } from './harness/cluster.js';
import { installOperatorPrerequisites } from './harness/install.js';

export default async function globalSetup(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'nexus-it-'));
  process.env.NEXUS_IT_RUN_DIR = runDir;
  console.log(`\n==> control plane for the integration tests in ${runDir}`);
  const info = startCluster(runDir);
  console.log('==> installing the CRD and RBAC from config/default');
  const identity = await installOperatorPrerequisites(info);
  const state: HarnessState = {
    ...info,
    operatorKubeconfig: identity.kubeconfig,
    operatorNamespace: identity.namespace,
    operatorServiceAccount: identity.serviceAccount,
  };
  const stateFile = join(runDir, 'harness.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  process.env[STATE_ENV] = stateFile;
}
