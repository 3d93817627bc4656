import { describe, expect, it } from 'vitest';
import { checkClientVersionInformation, checkServerVersionInformation, chooseVersion } from '../../../src/quic/connection/version-negotiation.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';

const VNE = expect.objectContaining({ code: TransportErrorCode.VERSION_NEGOTIATION_ERROR });

describe('compatible version negotiation (RFC 9368)', () => {
  it('the server takes its first preference that the client lists and that is compatible (§2.3)', () => {
    expect(chooseVersion(QUIC_V1, { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] }, [QUIC_V2, QUIC_V1])).toBe(QUIC_V2);
    expect(chooseVersion(QUIC_V1, { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1] }, [QUIC_V2, QUIC_V1])).toBe(QUIC_V1);
    expect(chooseVersion(QUIC_V1, undefined, [QUIC_V2])).toBe(QUIC_V1);
    expect(chooseVersion(QUIC_V1, { chosenVersion: QUIC_V1, availableVersions: [0x1a2a3a4a] }, [0x1a2a3a4a])).toBe(QUIC_V1);
  });

  it('the client refuses a switch the server did not confirm, or a different Chosen Version (§4)', () => {
    expect(() => checkServerVersionInformation(undefined, QUIC_V2, QUIC_V1)).toThrow(VNE);
    expect(() => checkServerVersionInformation({ chosenVersion: QUIC_V1, availableVersions: [QUIC_V1] }, QUIC_V2, QUIC_V1)).toThrow(VNE);
    expect(() => checkServerVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V2, QUIC_V1)).not.toThrow();
    expect(() => checkServerVersionInformation(undefined, QUIC_V1, QUIC_V1)).not.toThrow();
  });

  it('the server refuses a client whose Chosen Version is not the version it spoke (§4)', () => {
    expect(() => checkClientVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V1)).toThrow(VNE);
    expect(() => checkClientVersionInformation({ chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] }, QUIC_V1)).not.toThrow();
  });
});
