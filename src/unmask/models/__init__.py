"""Pure ``nn.Module`` networks, one file per network, explicit constructor arguments only."""
