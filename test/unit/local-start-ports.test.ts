import { describe, expect, it } from 'vitest';
import { localStartPorts } from '../../dev/local-start-ports';

describe('localStartPorts', () => {
  it('uses the documented fixed ports by default: app 7071, simulator 7072, Azurite 10000-10002', () => {
    expect(localStartPorts({})).toEqual({ app: 7071, simulator: 7072, azuriteBlob: 10000, azuriteQueue: 10001, azuriteTable: 10002 });
  });

  it('takes each port from its variable', () => {
    expect(localStartPorts({ PORT: '8080', SIMULATOR_PORT: ' 8081 ', AZURITE_TABLE_PORT: '' })).toMatchObject({ app: 8080, simulator: 8081, azuriteTable: 10002 });
  });

  it.each(['0', '65536', '70.5', 'abc', '-1'])('refuses %s, naming the variable', (value) => {
    expect(() => localStartPorts({ AZURITE_QUEUE_PORT: value })).toThrow(`AZURITE_QUEUE_PORT must be a port number (1-65535), got "${value}"`);
  });
});
