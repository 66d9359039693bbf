"""The invitation domain: states, links, and the services that change invitations."""
