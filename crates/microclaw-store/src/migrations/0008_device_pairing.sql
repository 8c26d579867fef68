-- Device pairing: a device is `pending` (waiting for the operator, with a request id and the
-- time it asked) or `paired`; `revoked_at` (0003) still refuses it either way. Devices seen
-- before this migration were let in: they are paired, approved when first seen.
ALTER TABLE devices ADD COLUMN status TEXT NOT NULL DEFAULT 'paired';
ALTER TABLE devices ADD COLUMN label TEXT;
ALTER TABLE devices ADD COLUMN display_name TEXT;
ALTER TABLE devices ADD COLUMN platform TEXT;
ALTER TABLE devices ADD COLUMN device_family TEXT;
ALTER TABLE devices ADD COLUMN client_mode TEXT;
ALTER TABLE devices ADD COLUMN remote_ip TEXT;
ALTER TABLE devices ADD COLUMN scopes TEXT;
ALTER TABLE devices ADD COLUMN request_id TEXT;
ALTER TABLE devices ADD COLUMN requested_at INTEGER;
ALTER TABLE devices ADD COLUMN approved_at INTEGER;
ALTER TABLE devices ADD COLUMN approved_via TEXT;
UPDATE devices SET approved_at = first_seen_at, approved_via = 'silent';
CREATE UNIQUE INDEX devices_by_request_id ON devices (request_id) WHERE request_id IS NOT NULL;
