// Digital Bazaar's vc + eddsa-rdfc-2022, driven by kaga_vc's tests: one JSON request on stdin,
// one JSON answer on stdout. No network: every context and DID document comes in the request.
//   {"op": "issue",  "credential": {...}, "key": {id, controller, publicKeyMultibase, secretKeyMultibase},
//    "documents": {url: document}}                      -> {"credential": {...}}
//   {"op": "verify", "credential": {...}, "documents": {url: document}} -> {"verified": bool, "errors": [...]}
//   (with "statusNotChecked": true the credential's credentialStatus is accepted unchecked: vc refuses a
//   credential with a status entry unless given a checkStatus function, and the status list is not in scope)
//   {"op": "present", "credentials": [...], "holder": did, "key": {...}, "challenge", "domain",
//    "documents": {url: document}, "date"?}              -> {"presentation": {...}}
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

function loaderFor(documents) {
  return async url => {
    const base = url.split('#')[0];
    if(Object.prototype.hasOwnProperty.call(documents, url)) {
      return {contextUrl: null, documentUrl: url, document: documents[url]};
    }
    if(url.includes('#') && Object.prototype.hasOwnProperty.call(documents, base)) {
      // a verification method: dereference the fragment inside its DID document
      const doc = documents[base];
      const vm = (doc.verificationMethod || []).find(m => m.id === url);
      if(vm) {
        return {contextUrl: null, documentUrl: url,
          document: {'@context': doc['@context'], ...vm}};
      }
    }
    throw new Error(`document not provided offline: ${url}`);
  };
}

function describe(error) {
  if(!error) {
    return null;
  }
  const errors = error.errors || (Array.isArray(error) ? error : [error]);
  return errors.map(e => ({name: e.name, message: String(e.message || e)}));
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  const request = JSON.parse(input);
  const documentLoader = loaderFor(request.documents || {});
  if(request.op === 'issue') {
    const keyPair = await Ed25519Multikey.from(request.key);
    const suite = new DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
    });
    if(request.date) {
      suite.date = request.date;
    }
    const credential = await vc.issue({credential: request.credential, suite, documentLoader});
    process.stdout.write(JSON.stringify({credential}));
  } else if(request.op === 'verify') {
    const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
    const options = {credential: request.credential, suite, documentLoader};
    if(request.statusNotChecked) {
      options.checkStatus = async () => ({verified: true});
    }
    const result = await vc.verifyCredential(options);
    const errors = describe(result.error) ||
      (result.results || []).filter(r => !r.verified).map(r => describe(r.error)).flat();
    process.stdout.write(JSON.stringify({verified: result.verified, errors}));
  } else if(request.op === 'present') {
    const keyPair = await Ed25519Multikey.from(request.key);
    const suite = new DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
    });
    if(request.date) {
      suite.date = request.date;
    }
    const presentation = vc.createPresentation({
      verifiableCredential: request.credentials, holder: request.holder, now: request.date
    });
    const signed = await vc.signPresentation({
      presentation, suite, challenge: request.challenge, domain: request.domain, documentLoader
    });
    process.stdout.write(JSON.stringify({presentation: signed}));
  } else {
    throw new Error(`unknown op ${request.op}`);
  }
}

main().catch(error => {
  process.stdout.write(JSON.stringify({exception: String(error && error.stack || error)}));
  process.exitCode = 1;
});
