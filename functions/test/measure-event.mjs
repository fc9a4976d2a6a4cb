// Run as a child process by package.test.ts: loads the packaged bundle (what
// Cloud Functions runs), serves it with the Functions Framework as Cloud Run
// would, handles one event, then prints the process's peak RSS. A process of
// its own, so the test runner's memory does not count.
import { pathToFileURL } from 'node:url';

const [bundlePath, eventJson] = process.argv.slice(2);
const bundle = await import(pathToFileURL(bundlePath).href);
const { getTestServer } = await import('@google-cloud/functions-framework/testing');
const server = getTestServer(bundle.FUNCTION_NAME);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const res = await fetch(`http://127.0.0.1:${server.address().port}/`, {
  method: 'POST',
  headers: { 'content-type': 'application/cloudevents+json' },
  body: eventJson,
});
const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache);
process.stdout.write(
  `${JSON.stringify({
    status: res.status,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    computeLibraryLoaded: loaded.some((k) => k.includes('@google-cloud/compute')),
  })}\n`,
);
server.close();
process.exit(0);
