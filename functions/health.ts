import { app } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getHealth } from '../shared/health/get-health';
import { jsonResponse } from '../shared/http/problem-response';

/** Anonymous liveness: version, mode and whether storage answers. No settings or secrets. */
app.http('health', {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: async () => {
    const health = await getHealth(getConfig());
    return jsonResponse(health.storage === 'reachable' ? 200 : 503, health, { 'cache-control': 'no-store' });
  },
});
