"""Alembic migrations of the issuance records (run by ``IssuanceStore.open``; see ``kaga_vc._migrations``)."""
