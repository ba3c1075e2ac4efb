#!/usr/bin/env node
// Compile the project's contracts (contracts/EthereumDIDRegistry.sol, contracts/KagaAccessAnchor.sol) with the
// solc-js pinned in tests/interop/ethr/package.json and write kaga_vc/registry/artifacts/<Contract>.json
// (abi, bytecode, compiler version, settings, source hash).
//
//   node scripts/build_contracts.mjs           # (re)write the artifacts
//   node scripts/build_contracts.mjs --check   # exit 1 if a shipped artifact differs from a fresh compile
//
// Needs `npm ci` in tests/interop/ethr/ first. Runs offline: solc-js is the compiler itself, no download.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'tests', 'interop', 'ethr', 'package.json'))
const solc = require('solc')

const CONTRACTS = ['EthereumDIDRegistry', 'KagaAccessAnchor']
const pinned = JSON.parse(readFileSync(join(root, 'tests', 'interop', 'ethr', 'package.json'), 'utf8')).dependencies.solc

const settings = {
  optimizer: { enabled: true, runs: 200 },
  // paris: no PUSH0/MCOPY, so the registry deploys on older consortium chains as well as on current ones
  evmVersion: 'paris',
  // the bytecode must not depend on file paths or comments: no metadata hash appended
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
}

function compile(CONTRACT) {
  const SOURCE = `contracts/${CONTRACT}.sol`
  const version = solc.version()
  if (!version.startsWith(`${pinned}+`)) {
    throw new Error(`solc ${version} is installed but tests/interop/ethr/package.json pins ${pinned}: run npm ci in tests/interop/ethr/`)
  }
  const content = readFileSync(join(root, SOURCE), 'utf8')
  const input = { language: 'Solidity', sources: { [SOURCE]: { content } }, settings }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const errors = (output.errors || []).filter((e) => e.severity === 'error')
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  }
  const contract = output.contracts[SOURCE][CONTRACT]
  return {
    contractName: CONTRACT,
    sourceName: SOURCE,
    sourceSha256: createHash('sha256').update(content).digest('hex'),
    compiler: { name: 'solc-js', version },
    settings: { optimizer: settings.optimizer, evmVersion: settings.evmVersion, metadata: settings.metadata },
    abi: contract.abi,
    bytecode: '0x' + contract.evm.bytecode.object,
    deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
  }
}

let failed = false
for (const CONTRACT of CONTRACTS) {
  const ARTIFACT = join(root, 'kaga_vc', 'registry', 'artifacts', `${CONTRACT}.json`)
  const text = JSON.stringify(compile(CONTRACT), null, 2) + '\n'
  if (process.argv.includes('--check')) {
    let shipped = ''
    try {
      shipped = readFileSync(ARTIFACT, 'utf8')
    } catch {
      console.error(`missing ${ARTIFACT}`)
      failed = true
      continue
    }
    if (shipped !== text) {
      console.error(`${ARTIFACT} does not match a fresh compile of contracts/${CONTRACT}.sol: run node scripts/build_contracts.mjs`)
      failed = true
      continue
    }
    console.log(`${CONTRACT}: artifact matches a fresh compile`)
  } else {
    writeFileSync(ARTIFACT, text)
    console.log(`wrote ${ARTIFACT}`)
  }
}
process.exit(failed ? 1 : 0)
