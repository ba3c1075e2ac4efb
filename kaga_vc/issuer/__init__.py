"""The city's issuing service: credential issuance, issuance records, status lists, batch issuance."""
