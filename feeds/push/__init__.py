"""Senders: who hears of a change, read from the outbox (feeds/store/outbox.py).

A write records the feed scopes it changed in its own transaction; ``Delivery`` (delivery.py)
takes each sender's lease, reads the changes past its cursor, and hands their scopes to the
sender, which announces them: WebSub hubs (websub.py), cache purges (purge.py).

Adding one (a new hub protocol, a CDN): write a class with a ``name``, a ``batch`` size
and ``announce(feeds)``, which raises DeliveryFailed when the other side did not take it
(sender.py); then build it from the settings in ``senders_from`` (senders.py).
"""
