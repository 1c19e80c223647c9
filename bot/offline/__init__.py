"""Slack without Slack: a Web API stand-in and a driver that signs requests.

Used by the test suite and by ``flightvault demo``. Nothing is mocked inside
the bot: it talks real HTTP to the stand-in and receives real signed HTTP.
"""
