// did-jwt-vc interop driver: one JSON request on stdin, one JSON answer on stdout.
//   {"op": "sign-vc" | "sign-vp", "did", "kid"?, "alg": "ES256K"|"ES256K-R"|"EdDSA", "privateKeyHex", "payload", "options"?}
//   {"op": "verify-vc" | "verify-vp", "jwt", "now"?, "options"?}
//   {"op": "resolve", "did"}
// Any request may carry "documents": {did: DID document}; those DIDs resolve to the given document (how the
// tests hand over a did:ethr document resolved from the registry, history included).
// did:key comes from key-did-resolver; did:ethr is resolved as the *implicit* document (no registry
// history: #controller EcdsaSecp256k1RecoveryMethod2020 + blockchainAccountId, #controllerKey for
// public-key DIDs) because ethr-did-resolver needs a JSON-RPC node, which these tests do not start.
import { createVerifiableCredentialJwt, createVerifiablePresentationJwt, verifyCredential, verifyPresentation } from 'did-jwt-vc'
import { ES256KSigner, EdDSASigner, hexToBytes, toEthereumAddress } from 'did-jwt'
import { Resolver } from 'did-resolver'
import { getResolver as keyResolver } from 'key-did-resolver'

const NETWORKS = { mainnet: 1, sepolia: 11155111 }

function ethrImplicit() {
  return {
    ethr: async (did, parsed) => {
      const match = /^(?:(.+):)?(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{66})$/.exec(parsed.id)
      if (!match) return { didResolutionMetadata: { error: 'invalidDid' }, didDocument: null, didDocumentMetadata: {} }
      const network = match[1] || 'mainnet'
      const chainId = network.startsWith('0x') ? parseInt(network, 16) : NETWORKS[network]
      const id = match[2]
      const address = id.length === 42 ? id : toEthereumAddress(id)
      const vms = [{ id: `${did}#controller`, type: 'EcdsaSecp256k1RecoveryMethod2020', controller: did, blockchainAccountId: `eip155:${chainId}:${address}` }]
      if (id.length === 68) vms.push({ id: `${did}#controllerKey`, type: 'EcdsaSecp256k1VerificationKey2019', controller: did, publicKeyHex: id.slice(2) })
      const refs = vms.map((vm) => vm.id)
      return {
        didResolutionMetadata: { contentType: 'application/did+ld+json' },
        didDocument: {
          '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/secp256k1recovery-2020/v2'],
          id: did, verificationMethod: vms, authentication: refs, assertionMethod: refs,
        },
        didDocumentMetadata: {},
      }
    },
  }
}

const baseResolver = new Resolver({ ...keyResolver(), ...ethrImplicit() })

function resolverFor(documents) {
  if (!documents) return baseResolver
  return {
    resolve: async (didUrl, options) => {
      const did = didUrl.split('#')[0]
      if (Object.prototype.hasOwnProperty.call(documents, did)) {
        return { didResolutionMetadata: { contentType: 'application/did+ld+json' }, didDocument: documents[did], didDocumentMetadata: {} }
      }
      return baseResolver.resolve(didUrl, options)
    },
  }
}

function signerFor(req) {
  const key = hexToBytes(req.privateKeyHex)
  if (req.alg === 'EdDSA') return EdDSASigner(key)
  return ES256KSigner(key, req.alg === 'ES256K-R')
}

async function handle(req) {
  const resolver = resolverFor(req.documents)
  switch (req.op) {
    case 'sign-vc': {
      const issuer = { did: req.did, signer: signerFor(req), alg: req.alg }
      if (req.kid) issuer.kid = req.kid
      return { jwt: await createVerifiableCredentialJwt(req.payload, issuer, req.options || {}) }
    }
    case 'sign-vp': {
      const holder = { did: req.did, signer: signerFor(req), alg: req.alg }
      if (req.kid) holder.kid = req.kid
      return { jwt: await createVerifiablePresentationJwt(req.payload, holder, req.options || {}) }
    }
    case 'verify-vc': {
      const options = { ...(req.options || {}), policies: { now: req.now } }
      const result = await verifyCredential(req.jwt, resolver, options)
      return { verified: result.verified, issuer: result.issuer, payload: result.payload, signer: result.signer?.id }
    }
    case 'verify-vp': {
      const options = { ...(req.options || {}), policies: { now: req.now } }
      const result = await verifyPresentation(req.jwt, resolver, options)
      return { verified: result.verified, issuer: result.issuer, payload: result.payload, signer: result.signer?.id }
    }
    case 'resolve':
      return await resolver.resolve(req.did)
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { input += chunk })
process.stdin.on('end', async () => {
  try {
    process.stdout.write(JSON.stringify(await handle(JSON.parse(input))))
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error && error.message || error) }))
  }
})
