"""The simulated campaign behind ``make demo``: production flows, a local mail server and a
simulated clock. Only the mail server and the clock are the demo's own."""
