// Imports every role module so it registers its runner in ROLE_RUNNERS (see roles.ts).
import '../../core/alerter/register.ts';
import '../../forwarder/register.ts';
