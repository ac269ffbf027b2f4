from manyskills.cli.main import main

raise SystemExit(main())
