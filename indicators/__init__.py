"""The 测评体系: indicator tree, task breakdown, declaration materials (filled by a later issue)."""
