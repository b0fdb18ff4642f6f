// Runs every GraphQL-over-HTTP server audit of graphql-http against one live endpoint.
//
//   node audit.mjs http://127.0.0.1:8000/graphql
//
// Prints one JSON object per audit, in the library's order:
//   {"id", "name", "level": "MUST"|"SHOULD"|"MAY", "status", "reason"?, "response"?}
// where status is the library's own: "ok", "error" (a MUST failed), "warn" (a SHOULD failed),
// "notice" (a MAY failed), or "fatal" when the audit could not run at all (the request itself
// failed, say the connection was refused); then one summary line {"summary": {...}}.
// Exit code: 0 when every MUST audit passes and none is fatal, 1 otherwise, 2 on bad usage.
// tests/api/test_http_audit.py runs it against the real server.

import { serverAudits } from 'graphql-http';

const BODY_LIMIT = 2000;

async function describeResponse(response) {
  if (!response) {
    return null;
  }
  let body;
  try {
    body = await response.text();
    if (body.length > BODY_LIMIT) {
      body = `${body.slice(0, BODY_LIMIT)}... (${body.length} characters)`;
    }
  } catch {
    // the audit already read the body (it checks the JSON), and kept no copy of it
    body = null;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

async function main(argv) {
  const url = argv[2];
  if (argv.length !== 3 || !/^https?:\/\//.test(url)) {
    process.stderr.write('usage: node audit.mjs http://HOST:PORT/graphql\n');
    return 2;
  }
  const counts = { total: 0, ok: 0, error: 0, warn: 0, notice: 0, fatal: 0 };
  // One audit at a time: the output follows the library's order and the server sees one request
  // at a time, so a failure reads the same on every run.
  for (const audit of serverAudits({ url, fetchFn: fetch })) {
    const level = audit.name.split(' ', 1)[0];
    let line;
    try {
      const result = await audit.fn();
      line = { id: result.id, name: result.name, level, status: result.status };
      if (result.status !== 'ok') {
        line.reason = result.reason;
        line.response = await describeResponse(result.response);
      }
    } catch (error) {
      // graphql-http throws only when the audit could not be carried out
      const cause = error && error.cause ? ` (${error.cause.code || error.cause.message || error.cause})` : '';
      line = { id: audit.id, name: audit.name, level, status: 'fatal', reason: `${error}${cause}` };
    }
    counts.total += 1;
    counts[line.status] += 1;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  const passed = counts.error === 0 && counts.fatal === 0;
  process.stdout.write(`${JSON.stringify({ summary: { url, ...counts, passed } })}\n`);
  return passed ? 0 : 1;
}

process.exitCode = await main(process.argv);
