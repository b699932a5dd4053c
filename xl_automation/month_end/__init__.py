"""The month's end: submitting a ledger, collecting a folder, the group's archive, the notice, history and trends."""
