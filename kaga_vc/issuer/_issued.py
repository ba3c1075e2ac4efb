"""What a signed batch row is, on its way from a signing process to the batch engine.

Its own module so that a signing process (:mod:`kaga_vc.issuer._parallel`) imports neither the batch
engine nor the records (SQLAlchemy alone would cost each worker more than half a second to start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Issued:
    """What ``issue_one`` returns for a row: the record fields and the credential as delivered."""

    credential_id: str
    type: str
    subject_did: str | None
    status_list_id: str | None
    status_index: int | None
    format: str
    staff: str
    issued_at: datetime
    document: str
    """The credential as delivered: JSON text (Data Integrity) or the JWT / SD-JWT string."""
    extension: str = "json"
    claimed: bool = True
    """False when the status index was only reserved: the batch claims it in the commit transaction."""
    digest: str | None = None
    """:func:`kaga_vc.credentials.credential_digest` of the credential (hex): recorded, pending anchoring."""
    verification_method: str | None = None
    """The verification method that signed it (the issuance anchors' record)."""
