// The Ajv instance every schema worker uses: patterns on the linear-time engine, `uniqueItems` in
// linear time, no `$data`, formats as annotations (none is registered, so none could be checked).

import { Ajv } from 'ajv';
import { linearRegExpEngine } from './regexp.js';
import { uniqueItemsKeyword } from './unique.js';

export function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    addUsedSchema: false,
    validateSchema: true,
    $data: false,
    validateFormats: false,
    logger: false,
    code: { regExp: linearRegExpEngine },
  });
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword(uniqueItemsKeyword);
  return ajv;
}
