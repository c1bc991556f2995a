"""The desk's Slack app, laid out like Slack's bolt-python starter template.

    app.py        SlackEdge (the Bolt app in the desk's process), start_slack, the morning digest
    listeners/    one file per kind of listener; listeners.register(app) names every id answered
    access.py     the staff check, one Bolt middleware, and what non-staff may do
    blocks.py     every Block Kit shape, built from the plain data handlers return
    text.py       Slack's escaping of command text undone, in one place
    requests.py   what /slack/events refuses before Bolt: malformed bodies (400), replays (401)
"""
