#!/usr/bin/env node
// The GraphQL-over-HTTP audit of the `graphql-http` package (auditServer) against a live
// `relgraph serve`. Fails (exit 1) on any failed MUST or SHOULD; MAYs are listed, not required.
//
//   cd scripts && npm ci                  # once: installs graphql-http from package-lock.json
//   relgraph apikey create --scope read --name audit
//   node scripts/graphql-http-audit.mjs http://127.0.0.1:8000/graphql rgk_…
//
// URL and key may also come from RELGRAPH_AUDIT_URL and RELGRAPH_API_KEY. The key is sent as a
// bearer token on every audit request (the audit itself sends none).
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.RELGRAPH_AUDIT_URL ?? 'http://127.0.0.1:8000/graphql';
const token = process.argv[3] ?? process.env.RELGRAPH_API_KEY;

function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithKey });
const levels = { MUST: [0, 0], SHOULD: [0, 0], MAY: [0, 0] };
const failed = [];
for (const result of results) {
  const level = result.name.split(' ')[0];
  levels[level][1] += 1;
  if (result.status === 'ok') {
    levels[level][0] += 1;
    continue;
  }
  let body = '';
  try {
    body = await result.response.text();
  } catch {
    body = '(no body)';
  }
  const line = `${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`;
  console.log(`${line}\n    HTTP ${result.response.status} ${body.slice(0, 300)}`);
  if (result.status === 'error' || result.status === 'warn') failed.push(result);
}
for (const [level, [ok, total]] of Object.entries(levels)) {
  console.log(`${level} ${ok}/${total}`);
}
if (failed.length) {
  console.log(`FAILED: ${failed.length} MUST/SHOULD audit(s) of ${url}`);
  process.exit(1);
}
console.log(`PASSED: every MUST and SHOULD of the GraphQL-over-HTTP audit (${url})`);
