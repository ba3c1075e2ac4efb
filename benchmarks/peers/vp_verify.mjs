// did-jwt-vc in a fresh Node process, for run_all.py's cold-start comparison.
//   {"op": "sign", "alg": "EdDSA", "issuerKeyHex", "holderKeyHex", "issuer", "holder", "vc": {...},
//    "challenge", "domain"}          -> {"vp": jwt} (a VC 1.1 JWT VP holding a VC 1.1 JWT VC, both did:key)
//   {"op": "verify", "vp", "challenge", "domain", "now"} -> {"verified": true} (the process to time)
import {createVerifiableCredentialJwt, createVerifiablePresentationJwt, verifyPresentation} from 'did-jwt-vc';
import {EdDSASigner, hexToBytes} from 'did-jwt';
import {Resolver} from 'did-resolver';
import {getResolver} from 'key-did-resolver';

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const request = JSON.parse(input);
if(request.op === 'sign') {
  const kid = did => `${did}#${did.split(':').pop()}`;
  const issuer = {did: request.issuer, kid: kid(request.issuer), alg: 'EdDSA',
    signer: EdDSASigner(hexToBytes(request.issuerKeyHex))};
  const holder = {did: request.holder, kid: kid(request.holder), alg: 'EdDSA',
    signer: EdDSASigner(hexToBytes(request.holderKeyHex))};
  const vcJwt = await createVerifiableCredentialJwt(request.vc, issuer);
  const vp = await createVerifiablePresentationJwt({vp: {'@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiablePresentation'], holder: request.holder, verifiableCredential: [vcJwt]}}, holder,
  {challenge: request.challenge, domain: request.domain});
  process.stdout.write(JSON.stringify({vp}));
} else {
  const result = await verifyPresentation(request.vp, new Resolver(getResolver()),
    {challenge: request.challenge, domain: request.domain, audience: request.domain, policies: {now: request.now}});
  process.stdout.write(JSON.stringify({verified: result.verified}));
}
