// An independent wallet: @openid4vc/openid4vci + @openid4vc/openid4vp (the libraries behind Credo),
// @sd-jwt/core for the SD-JWT presentation and KB-JWT, dcql for the query, jose for keys and signatures.
// Driven by tests/openid4vc/test_interop_openid4vc.py against real `kaga-vc serve` processes.
//
//   node wallet.mjs receive '{"offer": "openid-credential-offer://...", "pin": "123456", "mode": "ok"}'
//   node wallet.mjs present '{"uri": "openid4vp://...", "credential": "...", "jwk": {...}, "nonce": null}'
//
// Prints one JSON document. Trusts the servers' certificate through NODE_EXTRA_CA_CERTS.
import { createHash, randomBytes } from "node:crypto";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { Openid4vpClient } from "@openid4vc/openid4vp";
import { SDJwtInstance } from "@sd-jwt/core";
import { DcqlQuery } from "dcql";
import * as jose from "jose";

const [mode, argText] = process.argv.slice(2);
const args = JSON.parse(argText);
const hash = (data, alg) => new Uint8Array(createHash(String(alg).toLowerCase().replace("-", "")).update(Buffer.from(data)).digest());

// did:key (Ed25519, multicodec 0xed01, base58btc) -> JWK, to check the verifier's request object
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58(text) {
  let n = 0n;
  for (const c of text) { const i = B58.indexOf(c); if (i < 0) throw new Error("bad base58"); n = n * 58n + BigInt(i); }
  const bytes = [];
  while (n > 0n) { bytes.unshift(Number(n % 256n)); n /= 256n; }
  for (const c of text) { if (c === "1") bytes.unshift(0); else break; }
  return Uint8Array.from(bytes);
}
function didKeyJwk(did) {
  const raw = base58(did.split(":")[2].slice(1));
  if (raw[0] !== 0xed || raw[1] !== 0x01) throw new Error("only Ed25519 did:key here");
  return { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw.slice(2)).toString("base64url") };
}

async function verifyJwt(signer, jwt) {
  let jwk;
  if (signer.method === "did") jwk = didKeyJwk(signer.didUrl.split("#")[0]);
  else if (signer.method === "jwk") jwk = signer.publicJwk;
  else return { verified: false };
  try {
    await jose.compactVerify(jwt.compact, await jose.importJWK(jwk, signer.alg));
    return { verified: true, signerJwk: jwk };
  } catch (e) {
    return { verified: false, signerJwk: jwk };
  }
}

const callbacks = {
  fetch, hash: (data, alg) => hash(data, alg), generateRandom: (n) => randomBytes(n), verifyJwt,
  signJwt: async (signer, { header, payload }) => {
    const key = await jose.importJWK(args.privateJwk ?? wallet.privateJwk, signer.alg);
    const jwt = await new jose.CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(key);
    return { jwt, signerJwk: signer.publicJwk };
  },
  clientAuthentication: () => {},
};

const wallet = {};

async function receive() {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  wallet.privateJwk = await jose.exportJWK(privateKey);
  const publicJwk = await jose.exportJWK(publicKey);
  // the "another key" attack: the proof names this key but is signed by the one above
  const named = args.attack === "other-key" ? await jose.exportJWK((await jose.generateKeyPair("ES256", { extractable: true })).publicKey) : publicJwk;
  const client = new Openid4vciClient({ callbacks });
  const offer = await client.resolveCredentialOffer(args.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: args.pin,
  });
  const configurationId = offer.credential_configuration_ids[0];
  const nonceResponse = await client.requestNonce({ issuerMetadata });
  const nonce = nonceResponse.c_nonce ?? nonceResponse.nonce;
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, nonce: args.attack === "bad-nonce" ? "not-ours" : nonce,
    signer: { method: "jwk", alg: "ES256", publicJwk: named },
  });
  const answer = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId,
    proofs: { jwt: [jwt] },
  });
  return { credential: answer.credentialResponse.credentials[0].credential, privateJwk: wallet.privateJwk,
           publicJwk, metadataDisplay: issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId].credential_metadata?.display };
}

async function present() {
  const url = new URL(args.uri);
  const params = Object.fromEntries(url.searchParams.entries());
  const client = new Openid4vpClient({ callbacks });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: params });
  const request = resolved.authorizationRequestPayload;
  if (resolved.client.prefix !== "decentralized_identifier") throw new Error("unexpected client id prefix");
  // DCQL: does our credential answer the query, and which claims does it ask for?
  const sd = new SDJwtInstance({
    hasher: (data, alg) => hash(data, alg), kbSignAlg: "ES256", signAlg: "EdDSA",
    kbSigner: async (data) => {  // ES256 over `header.payload`: the raw r||s JWS wants
      const { webcrypto } = await import("node:crypto");
      const key = await webcrypto.subtle.importKey("jwk", args.privateJwk, { name: "ECDSA", namedCurve: "P-256" },
                                                   false, ["sign"]);
      const sig = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(data));
      return Buffer.from(sig).toString("base64url");
    },
    saltGenerator: () => randomBytes(16).toString("base64url"),
  });
  const claims = await sd.getClaims(args.credential);
  const query = DcqlQuery.parse(request.dcql_query);
  DcqlQuery.validate(query);
  const match = DcqlQuery.query(query, [{ credential_format: "dc+sd-jwt", vct: claims.vct, claims,
                                          cryptographic_holder_binding: true }]);
  if (!match.can_be_satisfied) return { satisfied: false };
  const vpToken = {};
  const disclosed = {};
  for (const q of query.credentials) {
    const frame = {};
    for (const c of q.claims ?? []) frame[c.path[0]] = true;
    const presentation = await sd.present(args.credential, frame, {
      kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: args.aud ?? request.client_id,
                       nonce: args.nonce ?? request.nonce } },
    });
    vpToken[q.id] = [presentation];
    disclosed[q.id] = Object.keys(frame);
  }
  const responsePayload = { vp_token: vpToken, state: request.state };
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload: responsePayload,
  });
  let body = await submitted.response.text();
  try { body = JSON.parse(body); } catch (e) { /* keep text */ }
  const again = args.replay ? await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload: responsePayload,
  }) : null;
  return { satisfied: true, status: submitted.response.status, body, disclosed, clientId: request.client_id,
           replayStatus: again?.response.status, replayBody: again ? await again.response.json() : undefined,
           version: resolved.version };
}

try {
  const out = mode === "receive" ? await receive() : await present();
  process.stdout.write(JSON.stringify({ ok: true, ...out }) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error.message ?? error),
    body: error.errorResponse ?? error.response?.body ?? null, name: error.name }) + "\n");
}
