// Property-based tests of the validators of what the webviews send (a webview is another
// process: anything can arrive). fast-check generates arbitrary JSON and near-miss messages;
// each validator must never throw, and whatever it accepts must be well-formed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseFromWebview } from '../../src/chat/messages';
import { parseFromCosts } from '../../src/orgCosts/messages';
import { parseFromUsage } from '../../src/usage/messages';

const TYPES = ['ready', 'send', 'stop', 'newChat', 'copy', 'insert', 'openUrl', 'runCommand', 'retry', 'query', 'cancel', 'connect', 'action', 'exportCsv', 'filter', 'more'];

/** Arbitrary JSON, and objects that look like messages (a known `type`, arbitrary fields). */
const messages = fc.oneof(
  fc.jsonValue(),
  fc.record({ type: fc.constantFrom(...TYPES) }, { requiredKeys: ['type'] }).chain((base) =>
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })).map((extra) => ({ ...extra, ...base })),
  ),
  fc.record({
    type: fc.constantFrom('query'),
    query: fc.record({
      from: fc.oneof(fc.string(), fc.constant('2026-12-01')),
      to: fc.oneof(fc.string(), fc.constant('2026-12-31')),
      groupBy: fc.oneof(fc.constantFrom('project', 'lineItem'), fc.jsonValue()),
      projectIds: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
    }),
  }),
);

const RUNS = Number(process.env.SIDEKICK_FUZZ_RUNS ?? 2000);

describe('webview message validators, property-based', () => {
  it('the chat view: never throws; anything accepted has a known type', () => {
    fc.assert(
      fc.property(messages, (m) => {
        const parsed = parseFromWebview(m);
        if (parsed !== undefined) assert.ok(TYPES.includes(parsed.type), JSON.stringify(parsed));
      }),
      { numRuns: RUNS },
    );
  });

  it('the usage view: never throws; filters are trimmed short strings', () => {
    fc.assert(
      fc.property(messages, (m) => {
        const parsed = parseFromUsage(m);
        if (parsed?.type === 'filter') {
          for (const v of [parsed.filter.provider, parsed.filter.model]) {
            if (v !== undefined) assert.ok(typeof v === 'string' && v === v.trim() && v.length <= 256);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the costs view: never throws; accepted queries have real dates, a grouping and string lists', () => {
    fc.assert(
      fc.property(messages, (m) => {
        const parsed = parseFromCosts(m);
        if (parsed?.type === 'query') {
          const q = parsed.query;
          assert.match(q.from, /^\d{4}-\d{2}-\d{2}$/);
          assert.match(q.to, /^\d{4}-\d{2}-\d{2}$/);
          assert.ok(q.groupBy === 'project' || q.groupBy === 'lineItem');
          for (const list of [q.projectIds, q.lineItems, q.models]) assert.ok(list.every((k) => typeof k === 'string'));
        }
        if (parsed?.type === 'exportCsv') assert.match(parsed.fileName, /^[\w.-]{1,100}\.csv$/);
      }),
      { numRuns: RUNS },
    );
  });
});
