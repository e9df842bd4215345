import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../dev/simulator/start-simulator';
import { readTokenClaims } from '../../shared/identity/token-claims';
import { simulatorToken } from '../helpers/simulator-token';

describe('simulator managed identity: the roles claim', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ knobs: { grantedPermissions: ['Directory.Read.All', 'Mail.Send'] } });
  });
  afterAll(async () => {
    await sim.stop();
  });

  const tokenFor = async (resource: string) => readTokenClaims(await simulatorToken(sim, resource)) ?? {};

  it('puts exactly the granted Graph permissions in a Graph token', async () => {
    expect((await tokenFor('https://graph.microsoft.com')).roles).toEqual(['Directory.Read.All', 'Mail.Send']);
    sim.setKnobs({ grantedPermissions: ['User.Read.All'] });
    expect((await tokenFor('https://graph.microsoft.com/.default')).roles).toEqual(['User.Read.All']);
  });

  it('puts no Graph permission in a token for another resource', async () => {
    expect((await tokenFor('https://management.azure.com')).roles).toBeUndefined();
  });
});
