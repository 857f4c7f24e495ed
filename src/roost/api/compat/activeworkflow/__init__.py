"""ActiveWorkflow's client REST API (agents, messages, workflows) over Roost's records."""
