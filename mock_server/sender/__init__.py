"""The webhook sender: Askara's deliveries, retries and failure queue, on the injected clock.

:mod:`.dispatch` fans events out to webhooks and schedules attempts and retries; :mod:`.records`
shapes what is kept of each delivery; :mod:`.signing` signs (Standard Webhooks); :mod:`._transports`
does the I/O of one attempt; :mod:`.install` attaches a sender to a new context.
"""
