-- Holds under load (issue 12): a claim asks for due retries first
-- (attempts > 0), then for new deliveries (attempts = 0). With one index
-- over every due delivery, the first question read all of them in a
-- fan-out to 11,000 inboxes, none of which was a retry — once per claim
-- of 32. One index per question finds the first rows at once, in the
-- order the claim takes them.
CREATE INDEX deliveries_due_new ON deliveries(next_attempt_at, id)
    WHERE dead_at IS NULL AND attempts = 0;
CREATE INDEX deliveries_due_retry ON deliveries(next_attempt_at, id)
    WHERE dead_at IS NULL AND attempts > 0;
