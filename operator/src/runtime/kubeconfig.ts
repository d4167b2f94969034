// Credentials: the kubeconfig KUBECONFIG names, else the pod's service account.
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from './agents.js';
import { ConfigError, type OperatorConfig } from '../config.js';
import { describeError } from '../errors.js';

export function loadKubeConfig(config: OperatorConfig): KubeConfig {
  const kc = new PooledKubeConfig();
  if (config.kubeconfig) {
    const missing = config.kubeconfig.split(':').filter((path) => path && !existsSync(path));
    if (missing.length > 0)
      throw new ConfigError([`KUBECONFIG names a file that does not exist: ${missing.join(', ')}`]);
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new ConfigError([`KUBECONFIG ${config.kubeconfig} cannot be read: ${describeError(err)}`]);
    }
    if (!kc.getCurrentCluster())
      throw new ConfigError([`KUBECONFIG ${config.kubeconfig} selects no cluster`]);
  } else {
    kc.loadFromCluster();
    if (!kc.getCurrentCluster()?.server || kc.getCurrentCluster()?.server === 'https://undefined:undefined') {
      throw new ConfigError(['KUBECONFIG is not set and no in-cluster service account was found']);
    }
  }
  return kc;
}
