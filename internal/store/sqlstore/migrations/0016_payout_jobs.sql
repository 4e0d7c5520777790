-- alishop schema, version 16: a payout (转账) whose outcome is unknown is
-- settled by a job of its own, made with the payout, as refunds are.
-- Payouts left pending before this version get theirs now, due at once.
INSERT INTO jobs (kind, ref, run_at, created_at, updated_at)
	SELECT 'payout', out_biz_no, updated_at, updated_at, updated_at FROM payouts WHERE status = 'pending'
	ON CONFLICT (kind, ref) DO NOTHING;
