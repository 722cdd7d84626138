package OsintTest::Formats;

# The built-in formats' end-to-end checks (t/15-providers.t,
# t/63-formats-more.t): one lookup of one provider while the fixture
# answers its path with a canned body of t/lib/bodies (or a fault), and
# what the provider's part of the document must then be.
#
#   OsintTest::Formats::harness($t, $fx);
#   data_is('censys', '8.8.8.8', 'censys_host', { ports => [...], ... });
#   not_found('censys', '1.2.3.4', 'censys_404', 404);

use strict;
use warnings;

use Exporter 'import';
use Test::More ();

our @EXPORT_OK = qw(escape lookup data_is not_found);

my ($t, $fx);

# harness($t, $fx): the nginx and the fixture the lookups go to
sub harness { ($t, $fx) = @_ }

sub escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# lookup($provider, $target, $body [, $status]) -> (HTTP status, the
# provider's part of the document, the document): the fixture answers the
# canned body NAME, or the fault F for "fault=F", with the HTTP status
# when given
sub lookup {
    my ($provider, $target, $body, $status) = @_;

    my %p = $body =~ /^fault=(.*)/ ? (fault => $1) : (body => $body);
    $p{status} = $status if $status;

    $fx->control(prefix => "/$provider/", params => \%p);

    my ($st, $doc) = $t->get_json('/lookup?target=' . escape($target)
                                  . "&providers=$provider");

    $fx->control(prefix => "/$provider/", params => undef);

    return ($st, $doc && $doc->{providers}{$provider}, $doc);
}

# the provider answered ok and its data is exactly $want
sub data_is {
    my ($provider, $target, $body, $want) = @_;

    my ($st, $p) = lookup($provider, $target, $body);

    Test::More::is($st, 200, "$body: 200");
    Test::More::is($p && $p->{status}, 'ok', "$body: ok")
        or Test::More::diag(Test::More::explain($p));
    Test::More::is_deeply($p && $p->{data}, $want,
                          "$body: the normalised data")
        or Test::More::diag(Test::More::explain($p && $p->{data}));
}

# the provider answered not_found: no data, no error
sub not_found {
    my ($provider, $target, $body, $status) = @_;

    my ($st, $p) = lookup($provider, $target, $body, $status);
    my $what = $body . ($status ? " with $status" : ' with 200');

    Test::More::is($st, 200, "$what: 200");
    Test::More::is_deeply([ $p && $p->{status}, exists $p->{data},
                            exists $p->{error} ],
                          [ 'not_found', '', '' ],
                          "$what: not_found, no data, no error")
        or Test::More::diag(Test::More::explain($p));
}

1;
