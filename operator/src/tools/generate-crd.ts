// Prints crds/nexus.dev_nexusruntimes.yaml (make generate-crd).
import { renderCrdYaml } from '../api/crd-yaml.js';

process.stdout.write(renderCrdYaml());
