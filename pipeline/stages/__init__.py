"""One module per stage; each is plain Python over records, testable without Prefect."""
