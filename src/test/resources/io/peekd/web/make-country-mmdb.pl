# Writes a tiny MaxMind-format country database for the GeoIP tests (Debian: libmaxmind-db-writer-perl).
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %types = (country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version => 6, record_size => 24, database_type => 'peekd-Test-Country', languages => ['en'],
  description => { en => 'peekd test country database' }, alias_ipv6_to_ipv4 => 1,
  map_key_type_callback => sub { $types{ $_[0] } },
);
$tree->insert_network('93.184.216.0/24', { country => { iso_code => 'US', names => { en => 'United States' } } });
$tree->insert_network('2606:4700::/32', { country => { iso_code => 'DE', names => { en => 'Germany' } } });
open my $fh, '>:raw', $ARGV[0] or die "cannot write $ARGV[0]: $!";
$tree->write_tree($fh);
close $fh;
