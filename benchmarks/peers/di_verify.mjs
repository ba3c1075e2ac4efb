// Times Digital Bazaar's vc.verifyCredential (eddsa-rdfc-2022) in one warm process, for run_all.py.
// stdin: {"credential": {...}, "documents": {url: document}, "n": 200, "warmup": 20}
// stdout: {"verified": bool, "samples": [seconds per verification, ...]}
// No network: every context and DID document comes in the request, loaded from memory.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

function loaderFor(documents) {
  return async url => {
    if(Object.hasOwn(documents, url)) {
      return {contextUrl: null, documentUrl: url, document: documents[url]};
    }
    const base = url.split('#')[0];
    const vm = ((documents[base] || {}).verificationMethod || []).find(m => m.id === url);
    if(vm) {
      return {contextUrl: null, documentUrl: url, document: {'@context': documents[base]['@context'], ...vm}};
    }
    throw new Error(`document not provided offline: ${url}`);
  };
}

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const request = JSON.parse(input);
const documentLoader = loaderFor(request.documents);
const once = () => vc.verifyCredential({
  credential: structuredClone(request.credential),
  suite: new DataIntegrityProof({cryptosuite}), documentLoader
});
const first = await once();
for(let i = 0; i < (request.warmup ?? 20); i++) {
  await once();
}
const samples = [];
for(let i = 0; i < request.n; i++) {
  const start = process.hrtime.bigint();
  await once();
  samples.push(Number(process.hrtime.bigint() - start) / 1e9);
}
process.stdout.write(JSON.stringify({verified: first.verified, samples}));
