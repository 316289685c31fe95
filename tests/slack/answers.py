"""Honest, medium-to-good answers for each round, written for these tests."""

OPENING = (
    "I was the on-call engineer for our payments API when checkout started failing. At 14:02 our "
    "error-rate alert fired: 5xx on the payment endpoint went from 0.1% to 18%, and about 30% of "
    "checkout attempts in Europe failed for 40 minutes. I declared a SEV-2 and took incident commander; "
    "a second engineer took communications. My first hypothesis was the card processor, but their "
    "status page and our own latency graphs to them were clean, so I dropped it. At T+12 I saw the "
    "failures started with a deploy, and at T+15 I rolled it back as mitigation; errors were back to "
    "baseline by T+20. The fix was correcting the connection pool setting the deploy had changed, "
    "shipped the next day. For prevention we added a canary step that compares error rates before "
    "promoting a deploy, owned by the platform team and shipped within two weeks."
)
PROBE = (
    "Several things lined up. The deploy changed the database connection pool from 50 to 5 because "
    "of a typo in a config default. Our tests ran against a single connection, so the test gap hid it. "
    "The deploy process promoted to all regions at once with no canary, which is the process gap. And "
    "our monitoring alerted on errors but not on pool saturation, so we learned late. The typo was "
    "the trigger; the missing canary and the missing saturation alert are why it reached customers."
)
SQL = (
    "I would use expand and contract. First ALTER TABLE orders ADD COLUMN region text; nullable, with "
    "SET lock_timeout = '2s'. Deploy code that writes the column. Backfill existing rows in batches of "
    "10,000. Then ALTER TABLE orders ADD CONSTRAINT region_not_null CHECK (region IS NOT NULL) NOT VALID; "
    "and ALTER TABLE orders VALIDATE CONSTRAINT region_not_null; so the table is never locked for long."
)
CONSTRAINT = (
    "I made the incident channel the single source of truth and asked the VP to follow it there. "
    "Updates went out every 15 minutes with a fixed shape: status, impact in numbers, next step and "
    "time of the next update. I stayed incident commander and a colleague ran communications, "
    "including a customer statement for support. I picked one line of investigation at a time and "
    "asked the other engineers to hold their fixes until we had evidence."
)
CURVEBALL = (
    "I would respectfully disagree. Calling it human error stops the learning: any engineer could "
    "mistype a config value, and our system let that ordinary mistake reach every customer. The gaps "
    "were no validation of pool settings in CI, no canary, and no saturation alert. We added a config "
    "linter in CI, a canary stage that blocks promotion on error rate, and an alert on pool usage above "
    "80%. For the CTO: a reminder email changes nothing, while a guardrail protects every future deploy."
)
SYNTHESIS = (
    "The canary shipped two weeks later, owned by the platform team, and the config linter a week "
    "after that. Since then the canary has stopped three bad deploys before they reached more than 5% "
    "of traffic, and the linter has caught two invalid pool settings in review. Deploy-related "
    "incidents went from four a quarter to one. Looking back, I would have checked recent deploys "
    "before chasing the card processor; that would have saved ten minutes."
)
FOLLOW_UP = (
    "The error-rate alert fired at 14:02, about four minutes after the deploy, before any customer "
    "ticket. I paged the database on-call, who checked the pool metrics, and a support lead, who "
    "drafted the customer note. Permanently, we added the canary and an alert on pool saturation above "
    "80%, and about 12,000 checkouts were affected over 40 minutes."
)
BY_ROUND = {"opening": OPENING, "probe": PROBE, "sql": SQL, "constraint": CONSTRAINT,
            "curveball": CURVEBALL, "synthesis": SYNTHESIS}
