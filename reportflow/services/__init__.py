"""The programs reportflow talks to from outside its own code: Prefect's REST API, LibreOffice,
and the processes they run in. Below the domain: a rule of the cycle may wake a run or convert
a document without reaching up into the machinery that runs reportflow."""
