import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { pageText } from '../helpers/approval-form';
import { approvalsOf, browse, signInAs, ticketTexts } from '../helpers/approval-http';
import { caseStoreOf, readReleaseForms, releaseBody } from '../helpers/case-page-form';
import { seedIncident } from '../helpers/seed-incident';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/** A case viewer by `CASE_VIEWERS` alone (not an approver, not in the directory: the list names them directly). */
const VIEWER = { id: 'c0c0a000-0000-4000-8000-000000000001', upn: 'analyst@contoso.example', name: 'Ana Analyst' };
const HOSTILE_TITLE = '<script>alert(1)</script><img src=x onerror=alert(2)> Token theft';
const HOSTILE_NAME = '<b onmouseover=alert(3)>Evil</b> & "co"';

describe('the case pages, through the local host with its development sign-in', () => {
  const stack = useStack({
      // The hostile case names a classic service principal: disabling it needs the sp-disable-any opt-in.
      features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'],
      env: {
        APPROVERS: [DEMO.approvers[0], DEMO.approvers[1]].join(','),
        // A person by id and a group: the on-call approver reaches the pages only as a member of the group.
        CASE_VIEWERS: [VIEWER.id, DEMO.approverGroup].join(','),
        LOCAL_DEV_USERS: JSON.stringify([
          { id: DEMO.approvers[0], upn: DEMO.approverUpns[0], name: 'Sam SOC Lead' },
          { id: DEMO.approvers[1], upn: DEMO.approverUpns[1], name: 'Morgan Security Manager' },
          { id: DEMO.approvers[2], upn: DEMO.approverUpns[2], name: 'Alex On-Call' },
          { id: DEMO.human, upn: DEMO.humanUpn, name: 'Dana Sponsor' },
          VIEWER,
        ]),
      },
    });
  let demoCase: string;
  let heldCase: string;
  let upnCase: string;
  let hostileCase: string;
  let oldCase: string;
  let viewer: string;

  beforeAll(async () => {
    demoCase = String((await stack.post('/api/alerts', incident)).body['caseId']);
    const hostileObject = stack.sim.state.get(DEMO.classicSp);
    if (hostileObject) {
      hostileObject['displayName'] = HOSTILE_NAME;
    }
    hostileCase = String((await stack.post('/api/alerts', seedIncident(stack.sim, 1, [{ id: DEMO.classicSp, name: 'renamed' }], { title: HOSTILE_TITLE }).trigger())).body['caseId']);
    // A blueprint principal is always held for approval; an account named by UPN is an agent user.
    heldCase = String((await stack.post('/api/alerts', seedIncident(stack.sim, 2, [{ id: DEMO.blueprintPrincipal, name: 'Invoice blueprint' }]).trigger())).body['caseId']);
    upnCase = String((await stack.post('/api/alerts', seedIncident(stack.sim, 3, [{ upn: DEMO.agentUserUpns[1] }]).trigger())).body['caseId']);
    for (const id of [demoCase, hostileCase, heldCase, upnCase]) {
      await stack.waitForCase(id, settled);
    }
    // A case from last week, written as the intake writes one: the "last 24 hours" filter must leave it out.
    oldCase = randomUUID();
    const weekAgo = new Date(Date.now() - 7 * 24 * 3_600_000).toISOString();
    await (await caseStoreOf(stack)).create(
      { caseId: oldCase, kind: 'containment', source: 'incident', createdAt: weekAgo, updatedAt: weekAgo, status: 'done', mode: 'enforce', title: 'Last week: old incident', severity: 'Low', dedupeKey: `test:${oldCase}`, requestedBy: 'system', rejected: [] },
      [{ key: `oid:${DEMO.agents.orphan}`, ref: { by: 'objectId', objectId: DEMO.agents.orphan }, plan: 'contain', round: 0, objectId: DEMO.agents.orphan, displayName: 'Orphan Agent', kind: 'agentIdentity', status: 'contained', receivedAt: weekAgo, accessCutAt: weekAgo }],
    );
    // A user of the tenant, so the sign-in gets an ID token for them as Entra would.
    stack.sim.state.addSeed({ users: [{ id: VIEWER.id, '@odata.type': '#microsoft.graph.user', displayName: VIEWER.name, userPrincipalName: VIEWER.upn, accountEnabled: true }] });
    viewer = await signInAs(stack.url, VIEWER.id);
  });

  const list = async (query: string, cookie = viewer) => browse(stack.url, `/api/console/cases${query}`, { cookie });
  const casesIn = (html: string) => [...html.matchAll(/href="\/api\/console\/cases\/([0-9a-f-]{36})"/g)].map((m) => m[1]);

  it('shows no case data to someone not signed in, whatever headers they send', async () => {
    const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: DEMO.approvers[0] }] })).toString('base64');
    for (const path of ['/api/console/cases', `/api/console/cases/${demoCase}`, `/api/console/cases/${demoCase}?notice=release-requested`]) {
      const page = await browse(stack.url, path, { headers: { 'x-ms-client-principal': forged, 'x-ms-client-principal-id': DEMO.approvers[0] } });
      expect(page.status).toBe(401);
      expect(pageText(page.html)).toContain('Sign in to view cases');
      expect(page.html).toContain(`href="/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(path.split('?')[0] ?? '')}`);
      // The case id is in the address the visitor typed; nothing else of any case is.
      for (const secret of [heldCase, hostileCase, 'Contoso Invoice Agent', 'Suspicious', DEMO.agents.invoice, 'Time to contain', 'Timeline']) {
        expect(page.html).not.toContain(secret);
      }
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('cache-control')).toBe('no-store');
    }
    const posted = await browse(stack.url, `/api/console/cases/${demoCase}/release`, { form: releaseBody({ af: '1.x', targetId: DEMO.agents.invoice }, 'let it go') });
    expect(posted.status).toBe(401);
    expect(await (await approvalsOf(stack)).query(`caseId eq '${demoCase}'`)).toEqual([]);
  });

  it('refuses a signed-in person who is neither an approver nor a case viewer, showing no case data', async () => {
    const dana = await signInAs(stack.url, DEMO.human);
    for (const path of ['/api/console/cases', `/api/console/cases/${demoCase}`]) {
      const page = await browse(stack.url, path, { cookie: dana });
      expect(page.status).toBe(403);
      expect(pageText(page.html)).toContain('You cannot view cases');
      expect(pageText(page.html)).toContain(`Signed in as ${DEMO.humanUpn}`);
      expect(page.html).not.toContain(demoCase);
      expect(page.html).not.toContain('Contoso Invoice Agent');
    }
  });

  it('lets a person listed in CASE_VIEWERS, and a member of a listed group, read the list and the case', async () => {
    const before = stack.sim.calls.length;
    const onCall = await signInAs(stack.url, DEMO.approvers[2]);
    for (const cookie of [viewer, onCall]) {
      const page = await list('', cookie);
      expect(page.status).toBe(200);
      expect(casesIn(page.html)).toEqual(expect.arrayContaining([demoCase, heldCase, hostileCase, upnCase, oldCase]));
      expect((await browse(stack.url, `/api/console/cases/${demoCase}`, { cookie })).status).toBe(200);
    }
    // The group is checked in Entra at each request (so a removal takes effect at once), never cached from a token.
    expect(stack.sim.calls.slice(before).some((c) => c.path.endsWith(`/users/${DEMO.approvers[2]}/checkMemberGroups`))).toBe(true);
  });

  it('lists the newest case first with its status, incident, identity and time', async () => {
    const page = await list('');
    const ids = casesIn(page.html);
    expect(ids.at(-1)).toBe(oldCase);
    const text = pageText(page.html);
    expect(text).toContain('Contoso Invoice Agent (agent identity, contained)');
    expect(text).toContain('Held for approval');
    expect(text).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · High severity/);
    expect(page.html).not.toMatch(/<script/i);
  });

  it('filters open, held and failed cases and the last 24 hours, and searches by object id, UPN and name', async () => {
    expect(casesIn((await list('?status=held')).html)).toEqual([heldCase]);
    expect(casesIn((await list('?status=open')).html)).toEqual([heldCase]);
    expect(casesIn((await list('?status=failed')).html)).toEqual([]);
    expect(pageText((await list('?status=failed')).html)).toContain('No case matches these filters.');
    const recent = casesIn((await list('?since=24h')).html);
    expect(recent).toEqual(expect.arrayContaining([demoCase, heldCase, hostileCase, upnCase]));
    expect(recent).not.toContain(oldCase);
    expect(casesIn((await list(`?q=${DEMO.agents.invoice.toUpperCase()}`)).html)).toEqual([demoCase]);
    expect(casesIn((await list(`?q=${encodeURIComponent(DEMO.agentUserUpns[1])}`)).html)).toEqual([upnCase]);
    expect(casesIn((await list('?q=orphan+agent')).html)).toEqual([oldCase]);
    expect(casesIn((await list('?q=orphan+agent&since=24h')).html)).toEqual([]);
    expect(casesIn((await list(`?q=${DEMO.agents.invoice}&status=held`)).html)).toEqual([]);
  });

  it('answers a filter the form never sends with 400 naming the field, and shows no case', async () => {
    const page = await list('?status=everything');
    expect(page.status).toBe(400);
    expect(pageText(page.html)).toContain('status:');
    expect(casesIn(page.html)).toEqual([]);
    expect((await list(`?q=${'x'.repeat(300)}`)).status).toBe(400);
  });

  it('escapes an attacker-chosen incident title and entity name on the list and on the case page', async () => {
    for (const page of [await list(''), await browse(stack.url, `/api/console/cases/${hostileCase}`, { cookie: viewer })]) {
      expect(page.status).toBe(200);
      expect(page.html).not.toMatch(/<script|<img|<b onmouseover|onerror=alert\(2\)>/i);
      expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; Token theft');
      expect(pageText(page.html)).toContain(HOSTILE_NAME);
    }
  });

  it('shows each step with who and when, its Graph request ids, and the time to contain', async () => {
    const page = await browse(stack.url, `/api/console/cases/${demoCase}`, { cookie: viewer });
    const text = pageText(page.html);
    expect(text).toContain('Time to contain');
    expect(page.html).toMatch(/<strong class="ttc">\d+(\.\d)? (ms|s)<\/strong>/);
    expect(text).toMatch(/Agent responder Disable .*Contoso Invoice Agent — done/);
    expect(text).toContain('Alert received and recorded');
    const disable = stack.sim.calls.find((c) => c.method === 'PATCH' && c.path.includes(DEMO.agents.invoice));
    expect(disable?.requestId).toBeDefined();
    expect(page.html).toContain(`<code>${disable?.requestId ?? 'none'}</code>`);
  });

  it('lets a viewer request a release from the case page, as the requester, and shows it waiting', async () => {
    const page = await browse(stack.url, `/api/console/cases/${demoCase}`, { cookie: viewer });
    const [form] = readReleaseForms(page.html);
    expect(form?.targetId).toBe(DEMO.agents.invoice);
    const posted = await browse(stack.url, form?.action ?? '', { cookie: viewer, form: releaseBody(form ?? { af: '', targetId: '' }, 'Vendor rotated the secret; <b>sign-ins</b> explained') });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe(`/api/console/cases/${demoCase}?notice=release-requested#approvals`);

    const approvals = (await (await approvalsOf(stack)).query(`caseId eq '${demoCase}'`)).map((r) => r.value);
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ kind: 'release', status: 'pending', requestedBy: VIEWER.id, requestedByName: VIEWER.upn, reason: 'Vendor rotated the secret; <b>sign-ins</b> explained' });
    expect((await ticketTexts(stack)).some((t) => t.includes(`Release requested for Contoso Invoice Agent by ${VIEWER.upn}`))).toBe(true);

    const after = await browse(stack.url, posted.headers.get('location') ?? '', { cookie: viewer });
    const text = pageText(after.html);
    expect(text).toContain('Release requested. The approvers were told');
    expect(text).toContain(`A release was requested by ${VIEWER.upn} and waits for a decision`);
    expect(text).toContain('Waiting for a decision');
    expect(after.html).toContain('&lt;b&gt;sign-ins&lt;/b&gt;');
    expect(readReleaseForms(after.html)).toEqual([]);
    // The requester cannot approve their own request (separation of duties holds for page requests too).
    expect(approvals[0]?.excluded).toContain(VIEWER.id);
  });

  it('refuses a release form without a reason, with another person’s or another case’s token, or from someone not allowed', async () => {
    const store = await approvalsOf(stack);
    const approvalsOfHostile = async () => (await store.query(`caseId eq '${hostileCase}'`)).length;
    const mine = readReleaseForms((await browse(stack.url, `/api/console/cases/${hostileCase}`, { cookie: viewer })).html)[0];
    expect(mine).toBeDefined();
    const form = mine ?? { action: '', af: '', targetId: '', reasonId: '' };

    const blank = await browse(stack.url, form.action, { cookie: viewer, form: releaseBody(form, '   ') });
    expect(blank.status).toBe(400);
    expect(pageText(blank.html)).toContain('Give a reason');
    expect(blank.html).toContain('aria-invalid="true"');

    const socLead = await signInAs(stack.url, DEMO.approvers[0]);
    const stolen = await browse(stack.url, form.action, { cookie: socLead, form: releaseBody(form, 'using a token issued to someone else') });
    expect(stolen.status).toBe(403);
    expect(pageText(stolen.html)).toContain('This form has expired');

    const demoForm = readReleaseForms((await browse(stack.url, `/api/console/cases/${heldCase}`, { cookie: viewer })).html)[0];
    expect(demoForm).toBeUndefined(); // nothing contained on the held case: no release form at all
    const crossCase = await browse(stack.url, `/api/console/cases/${oldCase}/release`, { cookie: viewer, form: releaseBody({ af: form.af, targetId: DEMO.agents.orphan }, 'token of another case') });
    expect(crossCase.status).toBe(403);

    const dana = await signInAs(stack.url, DEMO.human);
    expect((await browse(stack.url, form.action, { cookie: dana, form: releaseBody(form, 'not a viewer') })).status).toBe(403);
    expect((await browse(stack.url, form.action, { cookie: viewer, form: 'af=x' })).status).toBe(400);
    expect((await browse(stack.url, form.action, { cookie: viewer, form: releaseBody(form, 'json?'), headers: { 'content-type': 'application/json' } })).status).toBe(415);
    expect(await approvalsOfHostile()).toBe(0);
    expect(await (await approvalsOf(stack)).query(`caseId eq '${oldCase}'`)).toEqual([]);
  });

  it('keeps the JSON case API beside the pages', async () => {
    const res = await stack.get(`/api/cases/${demoCase}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body['caseId']).toBe(demoCase);
  });
});
