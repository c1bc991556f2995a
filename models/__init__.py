"""The data: SQLModel tables and the named lookups on them. `models.schema` imports every table.

Each module holds one group of tables and, below them, plain async functions taking the session
for the reads that more than one place needs or that have a name of their own: a ticket by its
reference and the request that opened it (`tickets`), a contact by address, a partnership by any
spelling, its current contacts (`partnerships`), the lists, a list's members and a person's
subscriptions (`lists`), a campaign by name or id, every campaign and its participants (`surveys`),
a mailbox folder's cursor (`mailbox`), the Slack notice figures (`slack`), the corrected
examples the classifier retrains on (`corrections`), writing an audit entry (`audit`).

A read that one decision alone makes stays in the handler that makes it (`handlers/`), next to the
rule it serves: the staff queues and statistics (`handlers/ticket_queries.py`, which also knows the
service levels), a person's export and erasure (`handlers/persons.py`), a report's figures. This
package imports nothing from `handlers/` or `bot/`: it is the bottom layer.

Importing the package itself loads no table, so that a command reading tickets loads only the
tables it reads (`eocic-desk tickets` starts in a fraction of a second); what needs the whole
metadata (migrations, the schema tests) imports `models.schema`.
"""
