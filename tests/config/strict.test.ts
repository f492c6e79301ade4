import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseStrict, suggest } from '../../src/config/strict.ts';

const S = z.strictObject({ lr: z.number(), model: z.strictObject({ embedDim: z.number().int() }) });

test('parseStrict accepts a valid object', () => {
  assert.deepEqual(parseStrict(S, { lr: 1, model: { embedDim: 8 } }, 'cfg'), { lr: 1, model: { embedDim: 8 } });
});
test('parseStrict rejects unknown keys with a suggestion', () => {
  assert.throws(() => parseStrict(S, { lr: 1, model: { embedDm: 8 } }, 'cfg.yaml'), /cfg\.yaml: unknown key 'model\.embedDm' \(did you mean 'embedDim'\?\)/);
  assert.throws(() => parseStrict(S, { lrr: 1, model: { embedDim: 8 } }, 'x'), /did you mean 'lr'/);
});
test('parseStrict names the path of a bad value', () => {
  assert.throws(() => parseStrict(S, { lr: 'a', model: { embedDim: 8 } }, 'x'), /x: 'lr':/);
});
test('suggest gives nothing for far keys', () => {
  assert.equal(suggest('zzzzzz', ['lr', 'model']), undefined);
});
