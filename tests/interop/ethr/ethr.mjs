// Reference did:ethr tools driven by kaga_vc's tests: JSON on stdin, JSON on stdout.
//
//   node ethr.mjs deploy-reference  {rpcUrl, privateKey}                         -> {address, gasUsed}
//   node ethr.mjs resolve           {rpcUrl, registry, chainId, queries: [{did, versionId?, accept?}]}
//                                                                                 -> [{didDocument, didDocumentMetadata, didResolutionMetadata}]
//   node ethr.mjs script            {rpcUrl, registry, chainId, steps: [...]}    -> [{op, block}]
//
// resolve uses the npm release ethr-did-resolver 11.1.3; script writes with the npm ethr-did package.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ContractFactory, JsonRpcProvider, NonceManager, SigningKey, Wallet } from 'ethers'
import { Resolver } from 'did-resolver'
import { getResolver } from 'ethr-did-resolver'
import { EthrDID } from 'ethr-did'

const require = createRequire(import.meta.url)
const input = JSON.parse(readFileSync(0, 'utf8'))
const command = process.argv[2]

function provider(rpcUrl, chainId) {
  const p = new JsonRpcProvider(rpcUrl, chainId ? BigInt(chainId) : undefined, { staticNetwork: !!chainId, batchMaxCount: 1 })
  p.pollingInterval = 50 // ethers polls receipts every 4 s by default; the local node mines at once
  return p
}

async function deployReference({ rpcUrl, privateKey }) {
  // the package's "exports" hide the artifact: read the file next to it
  const root = dirname(dirname(require.resolve('ethr-did-registry')))
  const artifact = JSON.parse(readFileSync(join(root, 'artifacts/contracts/EthereumDIDRegistry.sol/EthereumDIDRegistry.json'), 'utf8'))
  const wallet = new Wallet(privateKey, provider(rpcUrl))
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet)
  const contract = await factory.deploy()
  const receipt = await contract.deploymentTransaction().wait()
  return { address: await contract.getAddress(), gasUsed: Number(receipt.gasUsed) }
}

async function resolve({ rpcUrl, registry, chainId, queries }) {
  const resolver = new Resolver(getResolver({ networks: [{ name: 'local', chainId, rpcUrl, registry }] }), { cache: false })
  const out = []
  for (const q of queries) {
    const url = q.versionId !== undefined ? `${q.did}?versionId=${q.versionId}` : q.did
    const options = q.accept ? { accept: q.accept } : {}
    out.push(await resolver.resolve(url, options))
  }
  return out
}

async function script({ rpcUrl, registry, chainId, steps }) {
  const p = provider(rpcUrl, chainId)
  const out = []
  const signers = new Map() // one nonce manager per key, so consecutive transactions never reuse a nonce
  for (const step of steps) {
    if (step.op === 'increaseTime') {
      await p.send('evm_increaseTime', [step.seconds])
      await p.send('evm_mine', [])
      out.push({ op: step.op, block: await p.getBlockNumber() })
      continue
    }
    if (!signers.has(step.signerKey)) signers.set(step.signerKey, new NonceManager(new Wallet(step.signerKey, p)))
    const txSigner = signers.get(step.signerKey)
    const did = new EthrDID({ identifier: step.identity, chainNameOrId: chainId, registry, provider: p, txSigner })
    let hash
    switch (step.op) {
      case 'setAttribute':
        hash = await did.setAttribute(step.name, step.value, step.validity)
        break
      case 'revokeAttribute':
        hash = await did.revokeAttribute(step.name, step.value)
        break
      case 'addDelegate':
        hash = await did.addDelegate(step.delegate, { delegateType: step.delegateType, expiresIn: step.validity })
        break
      case 'revokeDelegate':
        hash = await did.revokeDelegate(step.delegate, step.delegateType)
        break
      case 'changeOwner':
        hash = await did.changeOwner(step.newOwner)
        break
      case 'setAttributeSigned': {
        // meta-transaction: the owner signs the ERC-1056 digest, the submitter pays
        const ownerDid = new EthrDID({ identifier: step.identity, chainNameOrId: chainId, registry, provider: p,
                                       privateKey: step.ownerKey.replace(/^0x/, '') })
        const digest = await ownerDid.createSetAttributeHash(step.name, step.value, step.validity)
        const signature = new SigningKey(step.ownerKey).sign(digest)
        hash = await did.setAttributeSigned(step.name, step.value, step.validity,
          { sigV: signature.v, sigR: signature.r, sigS: signature.s })
        break
      }
      default:
        throw new Error(`unknown op ${step.op}`)
    }
    const receipt = await p.waitForTransaction(hash)
    out.push({ op: step.op, block: receipt.blockNumber, gasUsed: Number(receipt.gasUsed) })
  }
  return out
}

const commands = { 'deploy-reference': deployReference, resolve, script }
try {
  const result = await commands[command](input)
  process.stdout.write(JSON.stringify(result, (k, v) => (typeof v === 'bigint' ? v.toString() : v)))
  process.exit(0)
} catch (e) {
  process.stderr.write(String(e?.stack || e))
  process.exit(1)
}
