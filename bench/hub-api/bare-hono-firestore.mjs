// The cold-start anchor of a real request: a bare Hono app on @hono/node-server whose
// GET /workspaces makes the hub's list query directly with the Firestore client (the same
// query, the same client options) and answers its documents as JSON; no auth, no validation.
import { Firestore } from '@google-cloud/firestore';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const db = new Firestore({
  projectId: process.env.GOOGLE_CLOUD_PROJECT,
  ignoreUndefinedProperties: true,
});
const app = new Hono();
app.get('/workspaces', async (c) => {
  const snap = await db
    .collection('workspaces')
    .where('owner_id', '==', `dev:${process.env.BENCH_OWNER}`)
    .orderBy('created_at', 'desc')
    .orderBy('__name__', 'desc')
    .limit(51)
    .get();
  return c.json({ workspaces: snap.docs.slice(0, 50).map((d) => ({ id: d.id, ...d.data() })) });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
